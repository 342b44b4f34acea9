// Entry point of `npm start`. The contract host, settlement API and runner are wired in here as they land.
console.log('zgas: the contract and runner libraries are built; the local system (`npm start`) is not yet wired.');
