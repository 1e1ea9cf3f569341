// smcirc's version, as bundles, run folders and `--version` report it (a test keeps it equal to package.json's).
export const SMCIRC_VERSION = '0.1.0';
