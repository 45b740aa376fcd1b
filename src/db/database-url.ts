/** DATABASE_URL → which engine and where: `sqlite:PATH` (or a plain path) or `postgres://…`. */
export type DatabaseLocation =
  | { readonly dialect: "sqlite"; readonly path: string }
  | { readonly dialect: "postgres"; readonly connectionString: string };

export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: "postgres", connectionString: url };
  if (url.startsWith("sqlite:")) return { dialect: "sqlite", path: url.slice("sqlite:".length) || ":memory:" };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new Error(
      `unsupported scheme in "${url.replace(/\/\/[^@/]*@/, "//***@")}" (use sqlite:PATH or postgres://…)`,
    );
  }
  return { dialect: "sqlite", path: url };
}
