//go:build !linux

package base

import "os"

func removeTree(dir string) error { return os.RemoveAll(dir) }
