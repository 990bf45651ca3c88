// The SuiteCloud project's structure, checked as `suitecloud project:validate` would need it to be, and its
// agreement with the scripts (every field and parameter the code uses is created by an object).
import fs from 'node:fs'
import path from 'node:path'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import t from 'tap'

const SRC = path.resolve(import.meta.dirname, '../../netsuite/src')
const KIT = path.join(SRC, 'FileCabinet/SuiteScripts/billbridge')
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (name) => ['feature', 'path', 'scriptcustomfield', 'scriptdeployment', 'customrecordcustomfield'].includes(name) })

function readXml(file: string): any {
  const text = fs.readFileSync(file, 'utf8')
  const valid = XMLValidator.validate(text)
  if (valid !== true) throw new Error(`${file}: ${valid.err.msg} at line ${valid.err.line}`)
  return parser.parse(text)
}

const objects = fs.readdirSync(path.join(SRC, 'Objects')).filter((f) => f.endsWith('.xml')).map((file) => ({ file, xml: readXml(path.join(SRC, 'Objects', file)) }))
const kitSource = fs.readdirSync(KIT).map((f) => fs.readFileSync(path.join(KIT, f), 'utf8')).join('\n')
// Oracle's SDF custom object reference (https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/…): each
// object type's scriptid prefix and the longest value of each attribute and field, as `project:deploy` checks them.
const TYPES: Record<string, { prefix: string; maxId: number; maxName?: number; maxLabel?: number; maxDescription?: number; maxRecordName?: number; page: string }> = {
  // SDFxml_372451363.html: scriptid and recordname up to 40 characters
  customrecordtype: { prefix: 'customrecord_', maxId: 40, maxRecordName: 40, page: 'SDFxml_372451363' },
  // SDFxml_3330726969.html: scriptid up to 38 characters, label up to 200
  transactionbodycustomfield: { prefix: 'custbody_', maxId: 38, maxLabel: 200, page: 'SDFxml_3330726969' },
  // SDFxml_3519311208.html: scriptid and name up to 40 characters, description up to 999
  mapreducescript: { prefix: 'customscript_', maxId: 40, maxName: 40, maxDescription: 999, page: 'SDFxml_3519311208' },
  // SDFxml_2716615335.html: scriptid and name up to 40 characters, description up to 999
  usereventscript: { prefix: 'customscript_', maxId: 40, maxName: 40, maxDescription: 999, page: 'SDFxml_2716615335' },
}
// SDFxml_27094036.html (scriptdeployment): scriptid up to 40 characters; the title's limit is not given there, so
// deployments are held to the script name's 40. SDFxml_1412672892.html (scriptcustomfield): scriptid 40, label 200.
const DEPLOYMENT = { prefix: 'customdeploy_', maxId: 40, maxTitle: 40 }
const PARAMETER = { prefix: 'custscript_', maxId: 40, maxLabel: 200 }
// SDFxml_2670115109.html (customrecordcustomfield): scriptid up to 40 characters, label up to 200.
const RECORD_FIELD = { prefix: 'custrecord_', maxId: 40, maxLabel: 200 }
// Value lists: generic_customfield_fieldtype, generic_customfield_displaytype, script_status, script_loglevel.
const FIELD_TYPES = new Set(['TEXT', 'TEXTAREA', 'CLOBTEXT', 'CHECKBOX', 'DATE', 'DATETIMETZ', 'INTEGER', 'FLOAT', 'CURRENCY', 'URL', 'EMAIL', 'SELECT', 'MULTISELECT', 'PERCENT', 'PHONE'])
const DISPLAY_TYPES = new Set(['NORMAL', 'DISABLED', 'HIDDEN', 'INLINE'])
const SCRIPT_STATUS = new Set(['RELEASED', 'TESTING', 'NOTSCHEDULED', 'SCHEDULED'])
const LOG_LEVELS = new Set(['DEBUG', 'AUDIT', 'ERROR', 'EMERGENCY'])
// Features an object's values depend on, which the manifest must then require ("You may need to update the
// SuiteCloud project manifest depending on the value you specify"): scripts need SERVERSIDESCRIPTING (the script
// pages' Feature Dependencies); a body field shown on purchases (bodypurchase T) needs ACCOUNTING, vendor bills
// being accounting transactions (SDFxml_3330726969.html, and BILL "has a dependency on the ACCOUNTING feature"
// in SDFxml_3818146003.html).
function featuresNeeded(type: string, body: any): string[] {
  if (type === 'mapreducescript' || type === 'usereventscript') return ['SERVERSIDESCRIPTING']
  // SDFxml_372451363.html and SDFxml_2670115109.html: Feature Dependencies CUSTOMRECORDS
  if (type === 'customrecordtype') return ['CUSTOMRECORDS']
  if (type === 'transactionbodycustomfield' && body.bodypurchase === 'T') return ['ACCOUNTING']
  return []
}

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

t.test('every object: a known type, scriptid matching its file name, and every documented length limit', async (t) => {
  t.ok(objects.length >= 9)
  const within = (value: unknown, max: number | undefined, what: string) => {
    if (max === undefined || value === undefined) return
    t.ok(String(value).length <= max, `${what}: ${String(value).length} characters, at most ${max} ("${value}")`)
  }
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
    t.ok(body.label ?? body.name ?? body.recordname, `${id} has a label or name`)
    within(body.recordname, rule.maxRecordName, `${id} recordname (${rule.page})`)
    for (const field of body.customrecordcustomfields?.customrecordcustomfield ?? []) {
      const fieldId = field['@scriptid']
      t.ok(fieldId.startsWith(RECORD_FIELD.prefix) && fieldId.length <= RECORD_FIELD.maxId, `${fieldId}: at most ${RECORD_FIELD.maxId} characters`)
      within(field.label, RECORD_FIELD.maxLabel, `${fieldId} label`)
      t.ok(FIELD_TYPES.has(field.fieldtype), `${fieldId}: ${field.fieldtype}`)
      t.ok(DISPLAY_TYPES.has(field.displaytype ?? 'NORMAL'), `${fieldId}: ${field.displaytype}`)
    }
    within(body.name, rule.maxName, `${id} name (${rule.page})`)
    within(body.label, rule.maxLabel, `${id} label (${rule.page})`)
    within(body.description, rule.maxDescription, `${id} description (${rule.page})`)
    for (const deployment of body.scriptdeployments?.scriptdeployment ?? []) {
      const deployId = deployment['@scriptid']
      t.ok(deployId.startsWith(DEPLOYMENT.prefix) && deployId.length <= DEPLOYMENT.maxId, `${deployId}: at most ${DEPLOYMENT.maxId} characters`)
      within(deployment.title, DEPLOYMENT.maxTitle, `${deployId} title`)
      t.ok(SCRIPT_STATUS.has(deployment.status), `${deployId} status ${deployment.status}`)
      t.ok(LOG_LEVELS.has(deployment.loglevel), `${deployId} loglevel ${deployment.loglevel}`)
    }
    for (const parameter of body.scriptcustomfields?.scriptcustomfield ?? []) {
      const parameterId = parameter['@scriptid']
      t.ok(parameterId.startsWith(PARAMETER.prefix) && parameterId.length <= PARAMETER.maxId, `${parameterId}: at most ${PARAMETER.maxId} characters`)
      within(parameter.label, PARAMETER.maxLabel, `${parameterId} label`)
      t.ok(FIELD_TYPES.has(parameter.fieldtype), `${parameterId}: ${parameter.fieldtype}`)
    }
  }
})

t.test('the manifest requires every feature the objects depend on', async (t) => {
  const { manifest } = readXml(path.join(SRC, 'manifest.xml'))
  const required = new Set(manifest.dependencies.features.feature.filter((f: any) => f['@required'] !== 'false').map((f: any) => String(f['#text'] ?? f)))
  for (const { file, xml } of objects) {
    const [type, body] = Object.entries(xml)[0] as [string, any]
    for (const feature of featuresNeeded(type, body)) t.ok(required.has(feature), `${file} needs ${feature} in manifest.xml`)
  }
})

t.test('custom body fields: a valid type, stored, on vendor bills (purchases), not editable by hand', async (t) => {
  for (const { xml } of objects.filter((o) => o.xml.transactionbodycustomfield)) {
    const field = xml.transactionbodycustomfield
    t.ok(FIELD_TYPES.has(field.fieldtype), `${field['@scriptid']}: ${field.fieldtype}`)
    t.equal(field.storevalue, 'T')
    t.equal(field.bodypurchase, 'T')
    t.equal(field.displaytype, 'DISABLED')
    t.ok(DISPLAY_TYPES.has(field.displaytype))
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
  const recordTypes = objects.filter((o) => o.xml.customrecordtype).map((o) => o.xml.customrecordtype)
  t.same([...new Set(kitSource.match(/customrecord_[a-z0-9_]+/g))].sort(), recordTypes.map((r) => r['@scriptid']).sort())
  t.same([...new Set(kitSource.match(/custrecord_[a-z0-9_]+/g))].sort(), recordTypes.flatMap((r) => (r.customrecordcustomfields?.customrecordcustomfield ?? []).map((f: any) => f['@scriptid'])).sort())
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

t.test('the deleted-bill record type: within the SDF limits, fields the kit writes, the manifest requires custom records', async (t) => {
  const found = objects.find((o) => o.xml.customrecordtype?.['@scriptid'] === 'customrecord_bb_deleted')
  t.ok(found, 'customrecord_bb_deleted.xml exists')
  const type = found!.xml.customrecordtype
  t.ok(type['@scriptid'].length <= 40 && type.recordname.length <= 40, `scriptid ${type['@scriptid'].length}, recordname ${type.recordname.length} characters, at most 40 (SDFxml_372451363)`)
  const fieldIds = type.customrecordcustomfields.customrecordcustomfield.map((f: any) => f['@scriptid'])
  t.same(fieldIds.sort(), ['custrecord_bb_deleted_answer', 'custrecord_bb_deleted_at'])
  for (const id of fieldIds) t.ok(id.length <= 40, `${id}: ${id.length} characters, at most 40 (SDFxml_2670115109)`)
  const { manifest } = readXml(path.join(SRC, 'manifest.xml'))
  t.ok(manifest.dependencies.features.feature.some((f: any) => String(f['#text'] ?? f) === 'CUSTOMRECORDS'))
  const ue = objects.find((o) => o.xml.usereventscript)!.xml.usereventscript
  const source = fs.readFileSync(path.join(SRC, 'FileCabinet', /^\[(.+)\]$/.exec(ue.scriptfile)![1]!), 'utf8')
  t.match(source, /afterSubmit/, 'the User Event has the afterSubmit that leaves the record')
})
