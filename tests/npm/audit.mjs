// The graphql-http conformance audit against a running server: node audit.mjs URL [HEADERS_JSON]
// Prints one JSON line per check ({id, status, name, reason}), for the Python test to read.
import { auditServer } from "graphql-http";

const [url, headersJson] = process.argv.slice(2);
const headers = headersJson ? JSON.parse(headersJson) : {};
const results = await auditServer({
  url,
  // the audit's own requests, with the caller's headers (a bearer token) added
  fetchFn: (input, init = {}) =>
    fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init.headers)), ...headers } }),
});
for (const result of results) {
  const reason = result.status === "ok" ? undefined : result.reason;
  console.log(JSON.stringify({ id: result.id, status: result.status, name: result.name, reason }));
}
