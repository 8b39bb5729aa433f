/*
 * Port I/O, COM1 output and exit for the multiboot test kernels (kernel.c, stubs-kernel.c):
 * lines go to the serial port the harness reads (harness.ts), and leave() stops QEMU through
 * its isa-debug-exit device.
 */
#ifndef HYPERABI_TESTKERNEL_SERIAL_H
#define HYPERABI_TESTKERNEL_SERIAL_H

#include <stdint.h>

/* PC facts: the first UART, and QEMU's isa-debug-exit port (harness.ts passes it). */
#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }

static inline uint8_t inb(uint16_t port)
{
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

static inline void serial_init(void)
{
  outb(COM1 + 1, 0x00); /* no interrupts */
  outb(COM1 + 3, 0x80); /* DLAB */
  outb(COM1 + 0, 0x01); /* 115200 baud */
  outb(COM1 + 1, 0x00);
  outb(COM1 + 3, 0x03); /* 8N1 */
  outb(COM1 + 2, 0xc7); /* FIFO */
  outb(COM1 + 4, 0x03); /* DTR, RTS */
}

static inline void putc(char c)
{
  while (!(inb(COM1 + 5) & 0x20)) {
  }
  outb(COM1, (uint8_t)c);
}

static inline void puts(const char *s)
{
  while (*s) putc(*s++);
}

static inline void puthex(uint64_t v)
{
  char buf[19];
  int i = 18;
  buf[i] = 0;
  do {
    buf[--i] = "0123456789abcdef"[v & 0xf];
    v >>= 4;
  } while (v);
  buf[--i] = 'x';
  buf[--i] = '0';
  puts(buf + i);
}

static inline void putdec(uint32_t v)
{
  char buf[11];
  int i = 10;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  puts(buf + i);
}

static inline void leave(void)
{
  outb(DEBUG_EXIT_PORT, 0);
  for (;;) __asm__ volatile("cli; hlt");
}

#endif
