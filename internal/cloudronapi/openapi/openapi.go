// Package openapi embeds the published description of the Cloudron REST
// API (OpenAPI 3.1; see README.md for its origin and licence). It holds
// data only: internal/cloudronapi/contract loads and validates against it.
package openapi

import "embed"

// FS holds openapi.json (the entry point) and the paths/ and components/
// files it refers to.
//
//go:embed openapi.json paths components
var FS embed.FS

// Entry is the name of the entry point inside FS.
const Entry = "openapi.json"
