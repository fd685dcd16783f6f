/** What happened to a server of the fleet, told to the people who asked to hear of it. */
export interface ServerNotice {
  /** `server.down`, `server.up`, … (the subscription's event names). */
  event: string;
  /** The server or worker's name. */
  server: string;
  /** One line a person reads. */
  message: string;
  /** Unix milliseconds when the gateway saw it. */
  at: number;
}

/**
 * One way of telling people: Telegram, a webhook, or one a plugin adds.
 * `send` throws when the notice did not get through, so that it is retried.
 */
export interface NotificationChannel {
  readonly name: string;
  send(notice: ServerNotice, recipient: Readonly<Record<string, unknown>>): Promise<void>;
}
