// The s3rver that test/helpers/s3.ts starts, in a process of its own: s3rver-process.ts <directory> <bucket>
import S3rver from 's3rver'

const [directory, bucket] = process.argv.slice(2)
if (!directory || !bucket) throw new Error('usage: s3rver-process.ts <directory> <bucket>')
const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] })
const { port } = await server.run()
process.send?.({ port })
process.on('message', async () => {
  await server.close()
  process.exit(0)
})
// The test process went away without closing us.
process.on('disconnect', () => process.exit(0))
