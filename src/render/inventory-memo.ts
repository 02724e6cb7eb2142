// The render gate reads the file in place and the proposed render back into inventories on every
// render; at 10,000 real servers each read is ~10 ms of parsing. The file in place is almost always
// the previous render, read back byte for byte, so the inventory of the last texts is kept and
// reused when the same text comes again. The file on disk stays the reference: it is still read on
// every render, and only an identical text reuses an inventory (a pure function of the text).
import type { FileInventory } from './file-inventory.js';

/** Texts remembered: the file in place and the render proposed to replace it. */
const SLOTS = 2;

export class InventoryMemo {
  private entries: { readonly text: string; readonly inventory: FileInventory }[] = [];

  constructor(private readonly read: (text: string) => FileInventory) {}

  inventory(text: string): FileInventory {
    const hit = this.entries.find((entry) => entry.text === text);
    const inventory = hit?.inventory ?? this.read(text);
    // The most recently used first; the least recently used is forgotten.
    this.entries = [{ text, inventory }, ...this.entries.filter((entry) => entry !== hit)].slice(0, SLOTS);
    return inventory;
  }
}
