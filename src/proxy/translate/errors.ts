/** Client input that the other API cannot carry; the gateway answers 400 naming `param`. */
export class TranslationError extends Error {
  constructor(
    message: string,
    readonly param?: string,
  ) {
    super(message);
    this.name = "TranslationError";
  }
}

/**
 * A server's answer the gateway cannot pass on as one: not an answer at all,
 * cut short, or an error in a 200 body. The message names the server; the
 * client gets a 502 with it.
 */
export class BrokenAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BrokenAnswerError";
  }
}
