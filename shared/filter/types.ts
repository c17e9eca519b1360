/** What a jail may say about its filter (fail2ban's jail keys), and where filters are looked up. */
export interface FilterOptions {
  /** Searched first, then /etc/fail2ban/filter.d, then the set-up's cache. */
  dirs?: string[];
  /** Jail overrides of the filter's own values. */
  maxlines?: number;
  datepattern?: string;
  journalmatch?: string;
  /** `<HOST>` also matches host names unless `no`; names are reported, never resolved. */
  usedns?: 'yes' | 'warn' | 'no' | 'raw';
  /** Lines are cut to this many characters before matching (default 4096). */
  maxLineLength?: number;
  /** The jail's backend: `systemd` makes the filter's `logtype` `journal`, as in fail2ban. */
  backend?: string;
  /** fail2ban's logtimezone: the zone (`UTC`, `UTC+0200`, `CEST`) of dates that name none. */
  logtimezone?: string;
  /**
   * The local zone for dates that name none and no logtimezone applies:
   * an IANA name or a POSIX TZ rule; default the process's zone.
   */
  timezone?: string;
}

export interface Filter {
  readonly name: string;
  readonly maxlines: number;
  /** fail2ban's journalmatch: OR-groups of FIELD=value terms ('+' separates groups). */
  readonly journalmatch: string[][];
  /** One per log source: it holds that source's multi-line buffer. */
  matcher(): LineMatcher;
}

export interface LineMatcher {
  /**
   * One line without its newline; `now` (epoch ms) is when it was read: used for year roll-over and lines without a date.
   * `time` (epoch ms), when the source knows it (a journal entry, see journalLine), is the line's time: no date is
   * searched in the line then, as fail2ban's systemd backend does.
   */
  push(line: string, now: number, time?: number): FilterMatch[];
}

export interface FilterMatch {
  /** Canonical (shared/ip), set when the host is an address. */
  ip?: string;
  /** The <HOST> text as matched (a hostname when it is not an address). */
  host: string;
  /** Epoch ms from the line's own timestamp. */
  time: number;
  user?: string;
  id?: string;
  /** The matched line(s). */
  lines: string[];
  /** Every <F-...> group. */
  fields: Record<string, string>;
}
