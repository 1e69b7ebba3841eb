/**
 * Loading the gateway's module reads the settings; a given secret keeps the embedded default from
 * writing a development secret into ./data. Import this before the gateway.
 */
process.env.JWT_SECRET ??= "unit-tests-only-secret-of-forty-characters";
