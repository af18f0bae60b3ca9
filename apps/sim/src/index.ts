export const PACKAGE_NAME = '@mmukit/sim';
