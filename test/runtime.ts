// Moved to test/support/runtime.ts; bench/ still imports this path until the lead moves its
// imports at merge time. Delete this file then.
export { runtime, scriptCommand } from "./support/runtime.ts";
