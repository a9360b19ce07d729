// Reads JSON-stat files with jsonstat-toolkit (npm), as a JavaScript front end would, and
// prints each file's cells as [{dimension id: category id, ..., "value": number or null}] under
// its path.
//
// usage: node jsonstat_read.mjs FILE ...
import { readFileSync } from "node:fs";
import JSONstat from "jsonstat-toolkit";

const out = {};
for (const path of process.argv.slice(2)) {
  const dataset = JSONstat(JSON.parse(readFileSync(path, "utf8")));
  if (dataset.class !== "dataset") throw new Error(`${path}: not a dataset (${dataset.class})`);
  out[path] = dataset.toTable({ type: "arrobj", content: "id" });
}
process.stdout.write(JSON.stringify(out));
