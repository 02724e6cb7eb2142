// Long lists (10,000 instances of one job) go out a page at a time: the page, never the whole list,
// is what a browser builds rows for.

export const DEFAULT_PAGE_SIZE = 200;
export const MAX_PAGE_SIZE = 1000;

export interface Page<T> {
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
  readonly items: readonly T[];
}

export interface PageRequest {
  readonly offset: number;
  readonly limit: number;
}

/** offset/limit from a query string; anything that is not a sane number falls back to the defaults. */
export function pageRequest(query: URLSearchParams): PageRequest {
  const number = (name: string, fallback: number, max: number) => {
    const value = Number(query.get(name) ?? fallback);
    return Number.isSafeInteger(value) && value >= 0 ? Math.min(value, max) : fallback;
  };
  return { offset: number('offset', 0, Number.MAX_SAFE_INTEGER), limit: number('limit', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE) || DEFAULT_PAGE_SIZE };
}

export function pageOf<T>(items: readonly T[], request: PageRequest): Page<T> {
  return { total: items.length, offset: request.offset, limit: request.limit, items: items.slice(request.offset, request.offset + request.limit) };
}
