export async function seedDemo(_o: { ownerUrl: string; appUrl: string; log: (l: string) => void }): Promise<void> { throw new Error('not yet'); }
