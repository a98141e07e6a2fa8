// The one rule for passing a staple on to another process: it must stay valid long enough to get
// there and be used, because a staple that lapses on the way is refused by the client that
// receives it, and handing it over is stapling an expired response. Measured in the 60-minute
// soak on a loaded machine: responder answers arrived up to 82 ms after the staple's nextUpdate,
// and nginx's reload took up to 0.9 s to retire the workers that held the old file.

/** A responder answer (Apache, Java) is in flight for milliseconds: it must stay valid this much longer. */
export const RESPONDER_HANDOFF_MS = 1_000;

/** A staple file is used until the server's reload lands: withdrawn this long (plus the reload's debounce) before it lapses. */
export const FILE_HANDOFF_MS = 5_000;
