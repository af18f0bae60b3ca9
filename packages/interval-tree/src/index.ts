/** Package name, exported so the build can be smoke-tested before the API lands. */
export const PACKAGE_NAME = '@mmukit/interval-tree';
