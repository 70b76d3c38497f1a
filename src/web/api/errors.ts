// An HTTP answer other than 200, with a one-line message for the page to show.
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 413 | 415,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}
