// SuiteScript's AMD loader: each script's factory receives its modules, typed by the factory's own JSDoc.
declare function define(dependencies: string[], factory: (...modules: any[]) => unknown): void
