/**
 * What no response body may contain (issue #11): an internal host or address, a URL, a stack
 * frame or SQL. Error codes such as ECONNREFUSED are fine: they name no address.
 */
export const INTERNAL_DETAIL =
  /https?:\/\/|127\.0\.0\.1|localhost|\b\d{1,3}(\.\d{1,3}){3}\b|\bat \S+\.[jt]s:\d+|node_modules|\bselect\b.*\bfrom\b|\binsert into\b|relation "/i;
