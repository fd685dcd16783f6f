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
