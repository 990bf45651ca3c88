// Command-line arguments of the scripts: `--help` prints the usage and exits 0; a bad argument prints one
// line naming it, then the usage, and exits 2 (no stack).
import { parseArgs, type ParseArgsConfig } from 'node:util'

export const USAGE_EXIT = 2

/** A command line the script cannot run: the message names the bad argument in one line. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>

/** node:util parseArgs, with its errors turned into one-line UsageErrors. */
export function parseOptions<T extends Options>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true })
  } catch (err) {
    throw new UsageError(argumentProblem(err))
  }
}

function argumentProblem(err: unknown): string {
  const { code, message } = err as { code?: string; message: string }
  const option = /'(-[^' ]+)/.exec(message)?.[1]
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option ?? message}`
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument ${/'([^']*)'/.exec(message)?.[1] ?? message}`
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return option ? `option ${option} needs a value` : message.split('\n')[0]!
  return message.split('\n')[0]!
}

export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--')
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h')
}

/** Prints the problem and the usage to stderr and ends the process with exit code 2. */
export function exitWithUsage(problem: string, usage: string): never {
  process.stderr.write(`error: ${problem}\n${usage}\n`)
  process.exit(USAGE_EXIT)
}

/**
 * A script's arguments: answers --help with the usage (exit 0), and any unknown option or bad value with
 * one line plus the usage (exit 2).
 */
export function scriptArgs<T extends Options>(usage: string, options: T, config: { allowPositionals?: boolean; args?: string[] } = {}) {
  const args = config.args ?? process.argv.slice(2)
  if (wantsHelp(args)) {
    process.stdout.write(`${usage}\n`)
    process.exit(0)
  }
  try {
    return parseOptions(args, options, config.allowPositionals ?? false)
  } catch (err) {
    if (err instanceof UsageError) exitWithUsage(err.message, usage)
    throw err
  }
}

/** A whole number option within bounds, or a usage error naming it. */
export function intOption(name: string, raw: string, min: number, max: number, usage: string): number {
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value < min || value > max) exitWithUsage(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`, usage)
  return value
}
