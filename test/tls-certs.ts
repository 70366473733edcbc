// Moved to test/support/tls-certs.ts; bench/tls.ts still imports this path until the lead
// moves its import at merge time. Delete this file then.
export { testCertDir, pem } from "./support/tls-certs.ts";
