/** The reference adapter passes the conformance kit it is the reference for. */
import { MemoryAdapter } from '../../src'
import { describeAdapterConformance } from '../../src/testing'

describeAdapterConformance('MemoryAdapter', () => new MemoryAdapter(), { describe, it, expect })
