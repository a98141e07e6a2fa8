// The CLI's exit codes, shared by every command.
export const EXIT = {
  ok: 0,
  rejected: 1,
  usage: 2,
  noResponder: 3,
} as const;
