// One paging model for every list page: KFP's lists page by opaque tokens, so
// going back means remembering the tokens of the pages before.
import { useState } from 'react';
import type { ListPage } from '../api/types';
import { useAsync, type Async } from './hooks';

export interface PageRequest {
  page_size: number;
  page_token?: string;
}

export interface PagerState {
  page: number;
  hasPrev: boolean;
  hasNext: boolean;
  onPrev: () => void;
  onNext: () => void;
  pageSize: number;
  onPageSize: (n: number) => void;
  total?: number;
}

export interface PagedList<T> {
  list: Async<ListPage<T>>;
  items: T[];
  pager: PagerState;
}

/**
 * Load one page of a list. `query` names everything besides paging that the
 * request depends on (filters, sort); when it changes the list goes back to page 1.
 */
export function usePagedList<T>(load: (p: PageRequest) => Promise<ListPage<T>>, query: unknown[], initialPageSize = 20): PagedList<T> {
  const [pageSize, setPageSize] = useState(initialPageSize);
  const queryKey = JSON.stringify(query);
  // the token stack belongs to one query: a new query starts again at page 1
  const [paging, setPaging] = useState<{ key: string; tokens: string[] }>({ key: queryKey, tokens: [''] });
  const tokens = paging.key === queryKey ? paging.tokens : [''];
  const token = tokens[tokens.length - 1];
  const list = useAsync(() => load({ page_size: pageSize, page_token: token || undefined }), [queryKey, pageSize, token]);
  const next = list.data?.next_page_token;
  return {
    list,
    items: list.data?.items ?? [],
    pager: {
      page: tokens.length - 1,
      hasPrev: tokens.length > 1,
      hasNext: !!next,
      onPrev: () => setPaging({ key: queryKey, tokens: tokens.slice(0, -1) }),
      onNext: () => next && setPaging({ key: queryKey, tokens: [...tokens, next] }),
      pageSize,
      onPageSize: (n: number) => {
        setPageSize(n);
        setPaging({ key: queryKey, tokens: [''] });
      },
      total: list.data?.total_size,
    },
  };
}
