// The SuiteCloud project's structure, checked as `suitecloud project:validate` would need it to be, and its
// agreement with the scripts (every field and parameter the code uses is created by an object).
import fs from 'node:fs'
import path from 'node:path'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import t from 'tap'

const SRC = path.resolve(import.meta.dirname, '../../netsuite/src')
const KIT = path.join(SRC, 'FileCabinet/SuiteScripts/billbridge')
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (name) => ['feature', 'path', 'scriptcustomfield', 'scriptdeployment'].includes(name) })

function readXml(file: string): any {
  const text = fs.readFileSync(file, 'utf8')
  const valid = XMLValidator.validate(text)
  if (valid !== true) throw new Error(`${file}: ${valid.err.msg} at line ${valid.err.line}`)
  return parser.parse(text)
}

const objects = fs.readdirSync(path.join(SRC, 'Objects')).filter((f) => f.endsWith('.xml')).map((file) => ({ file, xml: readXml(path.join(SRC, 'Objects', file)) }))
const kitSource = fs.readdirSync(KIT).map((f) => fs.readFileSync(path.join(KIT, f), 'utf8')).join('\n')
// "SDF custom object" reference pages: each object type's scriptid prefix and longest scriptid.
const TYPES: Record<string, { prefix: string; maxId: number }> = {
  transactionbodycustomfield: { prefix: 'custbody_', maxId: 38 },
  mapreducescript: { prefix: 'customscript_', maxId: 40 },
  usereventscript: { prefix: 'customscript_', maxId: 40 },
}
const FIELD_TYPES = new Set(['TEXT', 'TEXTAREA', 'CLOBTEXT', 'CHECKBOX', 'DATE', 'DATETIMETZ', 'INTEGER', 'FLOAT', 'CURRENCY', 'URL', 'EMAIL', 'SELECT', 'MULTISELECT', 'PERCENT', 'PHONE'])

t.test('manifest.xml and deploy.xml of an account customization project', async (t) => {
  const { manifest } = readXml(path.join(SRC, 'manifest.xml'))
  t.equal(manifest['@projecttype'], 'ACCOUNTCUSTOMIZATION')
  t.ok(manifest.projectname)
  t.equal(String(manifest.frameworkversion), '1.0')
  t.ok(manifest.dependencies.features.feature.some((f: any) => (f['#text'] ?? f) === 'SERVERSIDESCRIPTING'), 'server-side scripting is required')
  const { deploy } = readXml(path.join(SRC, 'deploy.xml'))
  for (const p of [...deploy.files.path, ...deploy.objects.path]) {
    t.match(p, /^~\//, `${p} is project-relative`)
    t.ok(fs.existsSync(path.join(SRC, p.slice(2).replace(/\/\*$/, ''))), `${p} exists`)
  }
  t.ok(deploy.files.path.some((p: string) => p.startsWith('~/FileCabinet/SuiteScripts/billbridge')))
  t.ok(deploy.objects.path.includes('~/Objects/*'))
})

t.test('every object: a known type, scriptid matching its file name, prefix and length limits, a label or name', async (t) => {
  t.ok(objects.length >= 9)
  for (const { file, xml } of objects) {
    const [type, body] = Object.entries(xml)[0] as [string, any]
    const rule = TYPES[type]
    if (!rule) {
      t.fail(`${file}: unknown object type ${type}`)
      continue
    }
    const id = body['@scriptid']
    t.equal(`${id}.xml`, file, `${file} holds ${id}`)
    t.ok(id.startsWith(rule.prefix) && id.length <= rule.maxId && /^[a-z0-9_]+$/.test(id), `${id}: ${rule.prefix}…, at most ${rule.maxId} lowercase characters`)
    t.ok((body.label ?? body.name) && String(body.label ?? body.name).length <= 200, `${id} has a label or name`)
  }
})

t.test('custom body fields: a valid type, stored, on vendor bills (purchases), not editable by hand', async (t) => {
  for (const { xml } of objects.filter((o) => o.xml.transactionbodycustomfield)) {
    const field = xml.transactionbodycustomfield
    t.ok(FIELD_TYPES.has(field.fieldtype), `${field['@scriptid']}: ${field.fieldtype}`)
    t.equal(field.storevalue, 'T')
    t.equal(field.bodypurchase, 'T')
    t.equal(field.displaytype, 'DISABLED')
  }
})

t.test('scripts: their file exists, its @NScriptType matches, deployments are valid', async (t) => {
  const expected: Record<string, string> = { mapreducescript: 'MapReduceScript', usereventscript: 'UserEventScript' }
  for (const { xml } of objects.filter((o) => o.xml.mapreducescript || o.xml.usereventscript)) {
    const [type, script] = Object.entries(xml)[0] as [string, any]
    const file = /^\[(\/SuiteScripts\/.+\.js)\]$/.exec(script.scriptfile)?.[1]
    t.ok(file, `${script['@scriptid']} names a File Cabinet file`)
    const source = fs.readFileSync(path.join(SRC, 'FileCabinet', file!), 'utf8')
    t.match(source, new RegExp(`@NScriptType ${expected[type]}\\b`))
    t.match(source, /@NApiVersion 2\.1/)
    for (const deployment of script.scriptdeployments.scriptdeployment) {
      t.match(deployment['@scriptid'], /^customdeploy_[a-z0-9_]+$/)
      t.ok(['RELEASED', 'TESTING', 'NOTSCHEDULED', 'SCHEDULED'].includes(deployment.status), `${deployment['@scriptid']}: ${deployment.status}`)
      t.equal(deployment.isdeployed, 'T')
      if (type === 'usereventscript') t.equal(deployment.recordtype, 'VENDORBILL')
    }
  }
})

t.test('every field and parameter the scripts use is created by the project, and every one created is used', async (t) => {
  const bodyFields = new Set(objects.filter((o) => o.xml.transactionbodycustomfield).map((o) => o.xml.transactionbodycustomfield['@scriptid']))
  const used = new Set(kitSource.match(/custbody_[a-z0-9_]+/g))
  t.same([...used].sort(), [...bodyFields].sort())
  const sender = objects.find((o) => o.xml.mapreducescript)!.xml.mapreducescript
  const parameters = new Set(sender.scriptcustomfields.scriptcustomfield.map((f: any) => f['@scriptid']))
  t.same([...new Set(kitSource.match(/custscript_[a-z0-9_]+/g))].sort(), [...parameters].sort())
})

t.test("every module a script loads is in the deployed folder or is an N/ module", async (t) => {
  for (const file of fs.readdirSync(KIT)) {
    const deps = /define\(\[([^\]]*)\]/.exec(fs.readFileSync(path.join(KIT, file), 'utf8'))?.[1] ?? ''
    for (const dep of deps.match(/'[^']+'/g) ?? []) {
      const name = dep.slice(1, -1)
      t.ok(name.startsWith('N/') || fs.existsSync(path.join(KIT, `${name.slice(2)}.js`)), `${file} → ${name}`)
    }
  }
})
