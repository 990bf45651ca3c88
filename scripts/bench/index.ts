// npm run bench -- <name> [options]: runs scripts/bench/<name>.ts, which prints its figures.
import fs from 'node:fs'

const name = process.argv[2]
const available = fs.readdirSync(new URL('.', import.meta.url)).filter((f) => f.endsWith('.ts') && f !== 'index.ts').map((f) => f.slice(0, -3))
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${available.join('|')}> [options]\n`)
  process.exit(64)
}
await import(`./${name}.ts`)
