// Pub/sub: a subscriber asks a publisher for topics starting with "weather.".
import { Chirp } from "chirp-wasm";
import { publisher, subscriber } from "chirp-wasm/patterns";

const pubNode = await Chirp.start({ port: 0 });
const pub = publisher(pubNode);

const subNode = await Chirp.start({ port: 0 });
const sub = subscriber(subNode, (topic, msg) => console.log(`${topic}: ${msg.text()}`));
const at = `127.0.0.1:${pubNode.port}`;

await sub.subscribe(at, "weather."); // resolves once the publisher recorded it
await pub.publish("weather.today", "sunny");
await pub.publish("sports.today", "3:1"); // nobody wants this one
await sub.unsubscribe(at, "weather.");
const report = await pub.publish("weather.tomorrow", "rain");
console.log(`after unsubscribe: delivered to ${report.delivered}`);

await subNode.close();
await pubNode.close();
