//go:build !linux

package proc

import "syscall"

// sysProcAttr: outside Linux there is no Pdeathsig; the caller's cleanup
// stops the children.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
