//go:build !linux

package harness

import "syscall"

// sysProcAttr: outside Linux there is no Pdeathsig; t.Cleanup stops the children.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
