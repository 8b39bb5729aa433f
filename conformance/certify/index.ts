/**
 * Certification (docs/certify.md): profiles, runs, reports (JSON, JUnit, HTML), the
 * certificate and its verification.
 */
export { certify, CertifyUsageError, openTarget, readExpectations, selectScenarios, TARGET_FORMS, writeReportDir, type CertifyOptions, type CertifyResult } from './run.js';
export { makeCertificate, readKeyFile, REPORT_FILES, verifyReportDir, type SignKey, type VerifyOptions, type VerifyResult } from './certificate.js';
export { buildReport, summarize } from './report.js';
export { junitXml } from './junit.js';
export { reportHtml } from './html.js';
export { specCoverage, scenarioUses } from './coverage.js';
export { globMatcher, globRegExp, parseExpectations, ExpectationsError } from './expect.js';
export { canonicalJson, hyperabiVersion, specHash } from './digest.js';
export { Certificate, Report, REPORT_FORMAT, CERTIFICATE_FORMAT, reportJsonSchema, certificateJsonSchema } from './model.js';
