// What one fuzz suite found: the cases it ran, and the ones that crashed, were slow or produced invalid values.
export interface FuzzReport { name: string; cases: number; crashes: number; slowCases: number; invalidValues: number; maxMs: number; examples: string[] }
