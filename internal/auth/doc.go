// Package auth holds the security primitives of the manager's API: Werkzeug
// compatible password hashes, the ES512 key pair and JSON Web Tokens that the
// Wazuh API issues, a cache of verified tokens, failed-login blocking, per
// client rate limiting and a bounded pool for expensive login work.
//
// The package is a leaf: it imports no other muster package, keeps no global
// state and never reads the clock itself; every time-dependent call takes the
// current time as an argument.
package auth
