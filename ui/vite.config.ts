import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The server serves the build from src/pipeyard/server/static (git-ignored).
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: '../src/pipeyard/server/static',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: {
      '/apis': process.env.PIPEYARD_URL ?? 'http://127.0.0.1:8888',
    },
  },
  test: {
    environment: 'node',
    include: ['tests/**/*.test.ts', 'tests/**/*.test.tsx'],
    setupFiles: ['tests/setup.ts'],
    testTimeout: 120000,
  },
});
