/** An error as SuiteScript throws it: a name (its code) and a message (N/error, "error.SuiteScriptError"). */
export class SuiteScriptError extends Error {
  override readonly name: string
  constructor(name: string, message: string) {
    super(message)
    this.name = name
  }
}
