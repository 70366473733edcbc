// Messaging patterns over Chirp's public API (nng's protocols on the symmetric core):
// request/reply, push/pull, pub/sub, survey, bus and pair. Package export "chirp-wasm/patterns".
// Header layout and pattern ids: patterns/header.ts; guide: docs/patterns.md.
export * from "./header.ts";
export * from "./router.ts";
export * from "./reqrep/reqrep.ts";
export * from "./pipeline/pipeline.ts";
export * from "./pubsub/pubsub.ts";
export * from "./survey/survey.ts";
export * from "./bus/bus.ts";
export * from "./pair/pair.ts";
export * from "./renew.ts";
export * from "./pipeline/worker.ts";
