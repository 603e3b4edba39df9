// Generous waits: the tests share a loaded 2-core machine with the rest of the
// suite, where a first jsdom render can take seconds. Waits end as soon as their
// condition holds, so this costs nothing when the machine is idle.
import { configure } from '@testing-library/react';

configure({ asyncUtilTimeout: 30000 });
