/*
 * The live test kernel's entry: the Xen ELF notes, the entry point, the hypercall page Xen
 * fills at domain build, a stack, and hx_hypercall, the one hypercall path of the
 * interpreter (kernel.c).
 *
 * ELF note types are the PV boot loader's facts (xen/include/public/elfnote.h), like a
 * multiboot magic: they are not part of the hypercall spec, so they are named here.
 */
#include "hx_format.h"
#include "hx_layout.h"

#define XEN_ELFNOTE_ENTRY          1
#define XEN_ELFNOTE_HYPERCALL_PAGE 2
#define XEN_ELFNOTE_VIRT_BASE      3
#define XEN_ELFNOTE_PADDR_OFFSET   4
#define XEN_ELFNOTE_XEN_VERSION    5
#define XEN_ELFNOTE_GUEST_OS       6
#define XEN_ELFNOTE_LOADER         8

#define ELFNOTE(type, desc)                    \
	.pushsection .note.Xen, "a", @note;    \
	.balign 4;                             \
	.long 2f - 1f;                         \
	.long 4f - 3f;                         \
	.long type;                            \
1:	.asciz "Xen";                          \
2:	.balign 4;                             \
3:	desc;                                  \
4:	.balign 4;                             \
	.popsection

ELFNOTE(XEN_ELFNOTE_GUEST_OS, .asciz "hyperabi-live")
ELFNOTE(XEN_ELFNOTE_XEN_VERSION, .asciz "xen-3.0")
ELFNOTE(XEN_ELFNOTE_LOADER, .asciz "generic")
ELFNOTE(XEN_ELFNOTE_VIRT_BASE, .quad HX_VIRT_BASE)
/* The image's physical addresses start at 0 (kernel.ld), so virtual = physical + VIRT_BASE. */
ELFNOTE(XEN_ELFNOTE_PADDR_OFFSET, .quad 0)
ELFNOTE(XEN_ELFNOTE_ENTRY, .quad _start)
ELFNOTE(XEN_ELFNOTE_HYPERCALL_PAGE, .quad hypercall_page)

	.text
	.globl _start
_start:
	/* Xen enters in 64-bit mode with RSI = the start_info page (virtual address). */
	lea hx_stack_top(%rip), %rsp
	mov %rsi, %rdi
	call kmain
1:	jmp 1b

/*
 * long hx_hypercall(const uint64_t regs[6]): regs[0] is the hypercall number, regs[1..5]
 * the argument registers rdi, rsi, rdx, r10, r8. Numbers with a stub in the hypercall page
 * call it; larger ones (no stub) execute the same SYSCALL sequence the stubs hold.
 */
	.globl hx_hypercall
hx_hypercall:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rdi, %rbx
	mov 0(%rbx), %rax
	cmp $(HX_PAGE_SIZE / HX_STUB_SIZE), %rax
	jae 2f
	imul $HX_STUB_SIZE, %rax, %rax
	lea hypercall_page(%rip), %r11
	add %r11, %rax
	mov 8(%rbx), %rdi
	mov 16(%rbx), %rsi
	mov 24(%rbx), %rdx
	mov 32(%rbx), %r10
	mov 40(%rbx), %r8
	call *%rax
	jmp 3f
2:	mov 8(%rbx), %rdi
	mov 16(%rbx), %rsi
	mov 24(%rbx), %rdx
	mov 32(%rbx), %r10
	mov 40(%rbx), %r8
	push %rcx
	push %r11
	syscall
	pop %r11
	pop %rcx
3:	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret

	.balign HX_PAGE_SIZE
	.globl hypercall_page
hypercall_page:
	.fill HX_PAGE_SIZE, 1, 0xcc

	.bss
	.balign 16
hx_stack:
	.space 65536
	.globl hx_stack_top
hx_stack_top:

	.section .note.GNU-stack, "", @progbits
