// SuiteCloud CLI settings: the account customization project lives in src/.
module.exports = {
  defaultProjectFolder: 'src',
  commands: {},
}
