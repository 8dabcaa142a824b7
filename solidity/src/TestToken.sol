// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// A freely mintable ERC-20 for development chains and tests (`zkinfer market dev`): anyone can
/// mint. Never deploy it where the token is meant to have value.
contract TestToken is ERC20 {
    constructor() ERC20("zkinfer test token", "ZKT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
