/*
 * The test kernel's entry: the multiboot header (a boot-loader fact, not a VMI one), a stack,
 * and the two interrupt stubs (the alarm vector and every other vector).
 */
#define MULTIBOOT_MAGIC 0x1badb002
#define MULTIBOOT_FLAGS 0

	.section .multiboot, "a"
	.align 4
	.long MULTIBOOT_MAGIC
	.long MULTIBOOT_FLAGS
	.long -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)

	.text
	.globl _start
_start:
	movl $stack_top, %esp
	cld
	call kmain
1:	cli
	hlt
	jmp 1b

	/* The alarm's vector: count it in C, then return to the interrupted code. */
	.globl alarm_isr
alarm_isr:
	pushl %eax
	pushl %ecx
	pushl %edx
	call alarm_handler
	popl %edx
	popl %ecx
	popl %eax
	iret

	/* Every other vector: report and leave. */
	.globl fault_isr
fault_isr:
	call fault_handler
2:	cli
	hlt
	jmp 2b

	.bss
	.align 16
stack:
	.space 16384
stack_top:
