// V8 settings every Rebound process (server, CLI, benchmarks) runs with. Imported first, before any of our
// code is loaded, so no allocation site has been judged yet.
import { setFlagsFromString } from 'node:v8';

// No allocation-site pretenuring. V8 watches where objects are allocated, and once most of a site's objects
// outlive a young-generation collection it allocates that site's objects in the old generation from then
// on. Under a burst, the envelopes just stored (held for the workers a few milliseconds) and the HTTP
// answers' headers pass that test; the decision sticks, and afterwards every event's envelope is born old
// and dies old, to be reclaimed by full collections that stop the event loop for 3-10 ms. Measured at
// 5,000 events/s after a burst: three full collections in 50 s with it, none without; see
// docs/development.md ("Objects born old"). Nothing Rebound allocates on its hot paths lives long.
setFlagsFromString('--no-allocation-site-pretenuring');
