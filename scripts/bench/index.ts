// npm run bench -- <name> [options]: runs scripts/bench/<name>.ts, which prints its figures.
import fs from 'node:fs'
import { exitWithUsage } from '../lib/args.ts'

const name = process.argv[2]
const available = fs.readdirSync(new URL('.', import.meta.url)).filter((f) => f.endsWith('.ts') && f !== 'index.ts').map((f) => f.slice(0, -3))
const usage = `usage: npm run bench -- <${available.join('|')}> [options]
Runs one benchmark, which prints its figures (docs/benchmarks.md). Each takes its own options: see the
comment at the top of scripts/bench/<name>.ts.
  -h, --help   this text`
if (!name) exitWithUsage('no benchmark named', usage)
if (name === '--help' || name === '-h') {
  process.stdout.write(`${usage}\n`)
  process.exit(0)
}
if (!available.includes(name)) exitWithUsage(name.startsWith('-') ? `unknown option ${name}` : `unknown benchmark "${name}"`, usage)
await import(`./${name}.ts`)
