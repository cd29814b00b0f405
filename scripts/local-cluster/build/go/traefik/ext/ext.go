// Package ext stands in for Traefik's nested module github.com/traefik/traefik/dynamic/ext,
// which its go.mod replaces with the directory ./pkg/config/dynamic/ext: a nested module is
// left out of the traefik module's zip and the module proxy does not serve it. At v3.7.13 it is
// two empty extension points embedded (inline) in dynamic.HTTP and dynamic.Router.
package ext

// HTTP is embedded in dynamic.HTTP.
type HTTP struct{}

// Router is embedded in dynamic.Router.
type Router struct{}
