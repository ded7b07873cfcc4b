// Reads an .ics file with ical.js (the engine in Thunderbird) and prints, as JSON, what a
// calendar program would show for each event: its UID, start and end in UTC, status, title and place.
//
//   node tests/interop/ical_reader.mjs feed.ics
//
// Zones are taken from the file's own VTIMEZONE, as a subscribed calendar would be read.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

function utc(time) {
  return new Date(time.toUnixTime() * 1000).toISOString().replace(".000Z", "Z");
}

const text = readFileSync(process.argv[2], "utf8");
const calendar = new ICAL.Component(ICAL.parse(text));
const events = calendar.getAllSubcomponents("vevent").map((component) => {
  const event = new ICAL.Event(component);
  return {
    uid: event.uid,
    start: utc(event.startDate),
    end: utc(event.endDate),
    status: component.getFirstPropertyValue("status"),
    summary: event.summary,
    location: event.location,
    sequence: event.sequence,
  };
});
process.stdout.write(JSON.stringify({ parser: `ical.js ${ICAL.version ?? ""}`.trim(), events }));
