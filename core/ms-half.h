/* ms-half.h — IEEE 754 half precision ↔ single precision.  Used to read F16
 * model tensors and to store attention compactly in recordings. */
#pragma once

#include <stddef.h>
#include <stdint.h>

float ms_half_to_float (uint16_t h);
/* Round to nearest even; overflow gives ±inf, NaN stays NaN. */
uint16_t ms_float_to_half (float f);
/* @n floats to little-endian halves, each as ms_float_to_half (NaN payloads
 * aside): with the CPU's F16C conversion where it has one. */
void ms_floats_to_half_le (const float *src, uint16_t *dst, size_t n);
/* TRUE when ms_floats_to_half_le uses F16C on this CPU (for tests and reports). */
int ms_half_bulk_uses_f16c (void);
