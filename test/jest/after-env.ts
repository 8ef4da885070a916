import { checkContractAndCleanUp } from '@app/testing';

jest.setTimeout(60_000);

afterAll(async () => {
  await checkContractAndCleanUp();
});
