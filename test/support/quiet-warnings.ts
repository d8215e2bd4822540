// Tests read warnings from construct metadata (warningsOf); keep the console output readable.
jest.spyOn(console, 'warn').mockImplementation(() => undefined);
