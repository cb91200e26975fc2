// Where to go after signing in: the page a signed-out visitor asked for (a shared study link),
// kept in ``?next=`` — only a path of this site, never another origin.

/** The sign-in page's URL that comes back to ``path`` (the current page by default). */
export function signInUrl(path: string = location.pathname + location.search): string {
  return path === "/" || !safeReturnPath(path) ? "/signin" : `/signin?next=${encodeURIComponent(path)}`;
}

/** ``next`` when it is a path on this site ("/studies/…"), else "/". Refuses "//host",
 * "/\\host" and schemes, which a browser would follow to another origin. */
export function safeReturnPath(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  if (/[\u0000-\u001f]/.test(next)) return "/";
  try {
    const url = new URL(next, "https://iris.invalid");
    return url.origin === "https://iris.invalid" ? url.pathname + url.search : "/";
  } catch {
    return "/";
  }
}
