// The one rule for passing a staple on to another process (a server reading a staple file, or
// Apache and Java asking the responder): it must stay valid long enough to get there and be used.
// A staple that lapses in the next few milliseconds is refused by the client that receives it, so
// handing it over is stapling an expired response. Measured in the 60-minute soak on a loaded
// machine: responder answers arrived up to 82 ms after the staple's nextUpdate, and nginx's reload
// took over a second to retire its old workers.

/** How long a staple must still be valid when the daemon hands it to another process. */
export const HANDOFF_MARGIN_MS = 5_000;
