package proc

import "syscall"

// sysProcAttr makes a child die with its parent (SIGKILL on parent death).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
